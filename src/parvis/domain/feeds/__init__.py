"""The open algorithm: ranked feeds as pure, deterministic functions of visible signals.

Every feed is an `Algorithm` (parvis.domain.feeds.algorithm): it declares its inputs and its
parameters with their bounds, scores each candidate as a sum of named parts (so the explanation
of an item adds up to its score), and the shared selection (parvis.domain.feeds.selection)
orders the candidates under the diversity rules. Nothing here reads the clock or the database:
the same candidates, parameters and time give the same ranking, which is what `parvis feeds
replay` checks. docs/algorithm.md is generated from these modules (parvis.domain.feeds.document).
"""
