"""ActivityPub server to server: discovery, actors and objects, the inbox (an edge, like `api`
and `web`). What Parvis sends and accepts is described in FEDERATION.md."""
