"""inferplan: where LLM inference money goes on AWS and what to change."""

__version__ = "0.1.0"
