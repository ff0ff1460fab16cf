"""Community notes (issue 8): the bridging scorer of X's Community Notes, reimplemented.

A note is shown on a post only when raters who usually disagree both find it helpful. The
scorer (`scoring`) fits the one-factor matrix factorization of the reference model to the
ratings and turns each note's intercept and factor into a status; `tsv` reads and writes the
public Community Notes file layout so that anyone can rerun the scoring and compare; `model`
holds the types both share. Everything here is pure: no database, no clock.
"""
