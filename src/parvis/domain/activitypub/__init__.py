"""ActivityPub as pure domain code: the vocabulary (contexts, media types, addressing), the
rendering of Parvis's own documents (`render`) and the parsing of other servers' (`parse`)."""
