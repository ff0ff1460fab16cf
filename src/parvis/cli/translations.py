"""`parvis i18n`: the catalogues of the web interface."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from parvis.cli import (
    app,
    console,
    fail,
)

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    pass

T = TypeVar("T")


# --- i18n -------------------------------------------------------------------------------------

i18n_app = typer.Typer(
    help="Translations of the web interface: extract its strings, update the catalogues.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(i18n_app, name="i18n")

PROJECT = Path(__file__).resolve().parents[3]  # the source checkout: src/parvis/cli/translations.py
CATALOGUE_LOCALES = ("fr",)  # English is the source language: it has no catalogue
_DATES = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')
TEMPLATE_HEADER = """\
# The translatable strings of the Parvis web interface.
# Made by `parvis i18n update` from babel.cfg: do not edit; translate in <locale>/LC_MESSAGES."""


def extract_messages(project: Path = PROJECT) -> Any:
    """Every translatable string of the web app (templates and Python, as `babel.cfg` says),
    as a Babel catalogue: the template (`messages.pot`) of the translations."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    from parvis import __version__

    with (project / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    # The web app, and the services that speak through its catalogue (babel.cfg names which
    # files of src/parvis/services: the privacy policy).
    web = ("src", "src/parvis", "src/parvis/web", "src/parvis/services")

    def inside_web(directory: str) -> bool:
        relative = Path(directory).relative_to(project).as_posix()
        name = Path(directory).name
        return not name.startswith((".", "_")) and (
            relative in web or relative.startswith("src/parvis/web/")
        )

    catalog = Catalog(
        project="Parvis",
        version=__version__,
        copyright_holder="The Parvis authors",
        charset="utf-8",
        fuzzy=False,
        header_comment=TEMPLATE_HEADER,
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        project,
        method_map,
        options_map,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
        directory_filter=inside_web,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write_catalogue(path: Path, catalog: Any) -> bool:
    """Write a .pot/.po file unless only its dates would change; True when written."""
    import io

    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(
        buffer, catalog, width=100, sort_by_file=True, ignore_obsolete=True, include_lineno=False
    )
    new = buffer.getvalue()

    def dateless(data: bytes) -> list[bytes]:
        return [line for line in data.splitlines() if not line.startswith(_DATES)]

    if path.exists() and dateless(path.read_bytes()) == dateless(new):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(new)
    return True


@i18n_app.command("update")
def i18n_update(
    project: Annotated[
        Path,
        typer.Option(
            help="The source checkout holding babel.cfg and src/parvis/web.",
            file_okay=False,
            exists=True,
        ),
    ] = PROJECT,
) -> None:
    """Extract the web app's strings into messages.pot and merge them into every catalogue
    (fr), keeping the translations made; then say what is left to translate."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    if not (project / "babel.cfg").exists():
        raise fail(f"{project / 'babel.cfg'} not found: run this in a source checkout.")
    catalogues = project / "src" / "parvis" / "web" / "i18n"
    template = extract_messages(project)
    _write_catalogue(catalogues / "messages.pot", template)
    console.print(f"{len(template)} strings extracted into {catalogues / 'messages.pot'}.")
    for locale in CATALOGUE_LOCALES:
        po = catalogues / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as f:
                catalog = read_po(f, locale=locale)
        else:
            catalog = Catalog(
                locale=locale,
                project="Parvis",
                copyright_holder="The Parvis authors",
                fuzzy=False,
                header_comment=f"# {locale} translations of the Parvis web interface.",
            )
        catalog.update(template, update_header_comment=False)
        _write_catalogue(po, catalog)
        todo = sum(1 for m in catalog if m.id and (m.fuzzy or not _translated(m.string)))
        console.print(f"{locale}: {len(catalog)} strings, {todo} to translate or review.")


def _translated(string: Any) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)
