"""Small inputs shared by the report tests."""

# Two call types for a day: one with a long repeated prefix (caching pays), one nobody waits on (batch pays).
SMALL_SCENARIO = """
traffic:
  start: 2026-01-05T00:00:00Z
  days: 1
  region: us-east-1
  call_types:
    rag-answer:
      model: us.anthropic.claude-haiku-4-5-20251001-v1:0
      per_day: 400
      input_tokens: {dist: normal, mean: 3000, cv: 0.1}
      output_tokens: {dist: lognormal, mean: 200, cv: 0.5}
      prefix:
        - {name: system, tokens: 1500, reuse: 1.0}
        - {name: retrieved, tokens: 1000, reuse: 1.0, variants: 20}
      interactive: true
    nightly-summary:
      model: us.anthropic.claude-haiku-4-5-20251001-v1:0
      per_day: 100
      daily_profile: nightly
      input_tokens: {dist: lognormal, mean: 2000, cv: 0.4}
      output_tokens: {dist: lognormal, mean: 300, cv: 0.4}
      interactive: false
"""
