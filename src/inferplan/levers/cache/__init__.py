"""The cache simulators the levers replay traffic through, one subpackage:

- `flat`: a workload's prompt prefixes as flat numpy arrays (one element per request and segment, chain keys),
  encoded once per workload (`Prefixes`) and gathered by every lever and step.
- `replay`: the managed (Bedrock) prompt cache: TTL refreshed on use, checkpoints, every candidate placement
  in one compiled pass.
- `prefix`: the self-hosted prefix cache (vLLM-style LRU blocks limited by KV memory, optional TTL).
"""

from . import flat, prefix, replay

__all__ = ["flat", "prefix", "replay"]
