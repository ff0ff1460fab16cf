"""Labels for automation and coordination: pure detectors that raise signals, never verdicts.

- `automation` scores one account's recent posts for signs of automation (posting rhythm, the
  spread of activity over the day, volume, near-duplicate output, the client) and keeps every
  measured value with its threshold and a sentence, so a moderator sees why.
- `coordination` finds clusters of distinct accounts posting near-identical texts in a short
  window, and keeps only those with evidence beyond the shared text (young accounts, accounts
  posting little else, the same accounts in step across several texts).
- `minhash` is the near-duplicate machinery both use (normalization, shingles, MinHash, LSH).

A signal surfaces to moderators together with its evidence. A label exists only once a
moderator confirms it; users then choose per label to show, warn or hide. Nothing here removes
or demotes anything, silently or otherwise: these modules only compute.
"""
