"""The web app: server-rendered pages (Jinja2 + htmx) for people in a browser, in French and
English. An edge, like `parvis.api`: it calls services and renders domain objects."""
