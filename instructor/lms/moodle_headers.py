"""Which columns of a Moodle grade export hold the first name, the last name and the
identifier the import maps users by, in whatever language the export was made.

Moodle writes the identity columns of a grade export with the strings of the exporting
user's language (core ``lang/<code>/moodle.php``: ``firstname``, ``lastname``,
``idnumber``, ``email``, ``institution``, ``department``), so a Spanish course's export is
headed ``Nombre,Apellido(s),Número de ID,...``. The tables below hold the strings of the
languages Moodle ships most; each entry says where it comes from. They were written from
Moodle's language packs (AMOS, lang.moodle.org) as known to the author and cross-checked
against language files on GitHub that use the same terms (found: ``Nombre`` /
``Apellido(s)``, ``Número de ID``, ``Prénom``/``Nom``, ``Adresse de courriel``,
``Vorname``/``Nachname``, ``ID-Nummer``, ``Nome``/``Cognome``, ``Codice identificativo``,
``Nome``/``Sobrenome``; not confirmed there: the Dutch strings and the German, Italian and
Portuguese email strings). A site may override any string (``tool_customlang``), which
is what ``--name-columns`` and ``--id-column`` are for.
Matching ignores case and surrounding spaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .common import CsvTable, ExportError

__all__ = ["EMAIL_HEADERS", "ID_NUMBER_HEADERS", "NAME_HEADER_PAIRS", "OTHER_IDENTITY_HEADERS", "MoodleIdentity",
           "is_identity_header", "resolve_identity"]

NAME_HEADER_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("First name", "Last name", "en: core moodle.php 'firstname' / 'lastname'"),
    ("Forename", "Surname", "English exports from sites that renamed the strings (customlang), and older en_gb wording"),
    ("Given name", "Family name", "English customlang variant"),
    ("Nombre", "Apellido(s)", "es / es_mx: 'firstname' = 'Nombre', 'lastname' = 'Apellido(s)'"),
    ("Nombre", "Apellidos", "es variant (sites and older packs without the '(s)')"),
    ("Nombre", "Apellido", "es variant (es_mx / plugin wording)"),
    ("Prénom", "Nom", "fr: 'firstname' = 'Prénom', 'lastname' = 'Nom'"),
    ("Prénom", "Nom de famille", "fr variant (fr_ca and customlang)"),
    ("Vorname", "Nachname", "de / de_du: 'firstname' = 'Vorname', 'lastname' = 'Nachname'"),
    ("Nome", "Sobrenome", "pt_br: 'firstname' = 'Nome', 'lastname' = 'Sobrenome'"),
    ("Nome", "Apelido", "pt (Portugal): 'firstname' = 'Nome', 'lastname' = 'Apelido'"),
    ("Nome próprio", "Apelido", "pt (Portugal) variant"),
    ("Nome", "Cognome", "it: 'firstname' = 'Nome', 'lastname' = 'Cognome'"),
    ("Voornaam", "Achternaam", "nl: 'firstname' = 'Voornaam', 'lastname' = 'Achternaam'"),
)
"""(first-name header, last-name header, where the pair comes from), tried in order; the
first pair whose two headers are both among the identity columns is used."""

EMAIL_HEADERS: tuple[str, ...] = (
    "Email address",          # en: core 'email'
    "Email", "E-mail address", "E-mail",  # English variants
    "Dirección de correo",    # es: 'email'
    "Dirección Email", "Dirección de correo electrónico", "Correo electrónico",  # es / es_mx variants
    "Adresse de courriel",    # fr: 'email'
    "Adresse courriel", "Adresse e-mail", "Courriel",  # fr variants
    "E-Mail-Adresse",         # de: 'email'
    "E-Mail",
    "Endereço de email",      # pt_br: 'email'
    "Endereço de e-mail",     # pt: 'email'
    "Indirizzo email",        # it: 'email'
    "E-mailadres",            # nl: 'email'
)
"""Headers Moodle (and sites' overrides) give the ``email`` identity column."""

ID_NUMBER_HEADERS: tuple[str, ...] = (
    "ID number",              # en: core 'idnumber'
    "Número de ID",           # es: 'idnumber'
    "Número de identificación",  # es variant
    "Numéro d'identification",   # fr: 'idnumber'
    "Numéro d’identification",   # fr, typographic apostrophe
    "ID-Nummer",              # de: 'idnumber'
    "Número de identificação",   # pt / pt_br: 'idnumber'
    "Número de identificação (ID)",
    "Codice identificativo",  # it: 'idnumber'
    "ID-nummer",              # nl: 'idnumber'
)
"""Headers Moodle gives the ``idnumber`` identity column."""

OTHER_IDENTITY_HEADERS: tuple[str, ...] = (
    "Institution", "Department", "Username",                       # en
    "Institución", "Departamento", "Nombre de usuario",            # es
    "Département", "Nom d'utilisateur", "Nom d’utilisateur",       # fr ('institution' = 'Institution')
    "Abteilung", "Anmeldename",                                    # de ('institution' = 'Institution')
    "Instituição", "Nome de usuário", "Nome de utilizador",        # pt_br / pt
    "Istituto", "Dipartimento",                                    # it
    "Instituut", "Afdeling", "Gebruikersnaam",                     # nl
)
"""Other identity columns (not grade columns): a column named so cannot be filled."""


def _fold(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split()).casefold()


_KNOWN = {_fold(h) for pair in NAME_HEADER_PAIRS for h in pair[:2]} | {
    _fold(h) for h in EMAIL_HEADERS + ID_NUMBER_HEADERS + OTHER_IDENTITY_HEADERS}


def is_identity_header(header: str) -> bool:
    """True if ``header`` is one of the identity column names above (any language)."""
    return _fold(header) in _KNOWN


@dataclass(frozen=True)
class MoodleIdentity:
    """Where the identity columns are.

    Attributes:
        first, last: indices of the first-name and last-name columns.
        first_label, last_label: their headers as written in the file.
        ids: (index, header) of the columns the import can map users by (email before
            ID number, or the one ``id_column`` named), possibly empty.
        source: which pair of :data:`NAME_HEADER_PAIRS` matched, or ``"--name-columns"``.
    """

    first: int
    last: int
    first_label: str
    last_label: str
    ids: list[tuple[int, str]] = field(default_factory=list)
    source: str = ""


def _listed(headers: list[str]) -> str:
    return ", ".join(repr(h) for h in headers) or "none"


def _find(header: list[str], name: str, n_identity: int, table: CsvTable, option: str) -> int:
    """Index of the identity column ``name`` (exact, else trimmed and case-insensitive)."""
    for same in (lambda h: h == name, lambda h: _fold(h) == _fold(name)):
        hits = [i for i, h in enumerate(header) if same(h)]
        if len(hits) > 1:
            raise ExportError(f"{table.path}: {option}: the header has {len(hits)} columns named {name!r}; rename the extra ones")
        if hits:
            if hits[0] >= n_identity:
                raise ExportError(
                    f"{table.path}: {option}: {name!r} comes after the first grade column; identity columns must "
                    f"come before the grade columns (identity columns found: {_listed(header[:n_identity])})")
            return hits[0]
    raise ExportError(f"{table.path}: {option}: no column {name!r} (identity columns found: {_listed(header[:n_identity])}; "
                      f"all columns: {_listed(header)})")


def parse_name_columns(value: str) -> tuple[str, str]:
    """``"Nombre,Apellido(s)"`` -> ``("Nombre", "Apellido(s)")``.

    Raises:
        ExportError: not exactly two non-empty comma-separated names.
    """
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ExportError(f"--name-columns {value!r}: expected two column names separated by a comma, "
                          "first name then last name, e.g. \"Nombre,Apellido(s)\"")
    return parts[0], parts[1]


def resolve_identity(table: CsvTable, n_identity: int, *, name_columns: tuple[str, str] | None = None,
                     id_column: str | None = None) -> MoodleIdentity:
    """Find the name and identifier columns among the first ``n_identity`` columns.

    Args:
        table: the Moodle grade export.
        n_identity: the number of leading identity columns (before the first grade item).
        name_columns: (first-name header, last-name header) the instructor named, or None
            to recognise them from :data:`NAME_HEADER_PAIRS`.
        id_column: the header of the column the import maps users by, or None to use
            every recognised email and ID number column.

    Returns:
        MoodleIdentity

    Raises:
        ExportError: a named column is missing, repeated or after the grade columns, or no
            recognised name pair is present; every message lists the columns found.
    """
    header = table.header
    if name_columns is not None:
        first = _find(header, name_columns[0], n_identity, table, "--name-columns")
        last = _find(header, name_columns[1], n_identity, table, "--name-columns")
        if first == last:
            raise ExportError(f"{table.path}: --name-columns names the same column twice ({header[first]!r})")
        source = "--name-columns"
    else:
        folded = [_fold(h) for h in header[:n_identity]]
        for first_name, last_name, origin in NAME_HEADER_PAIRS:
            if _fold(first_name) in folded and _fold(last_name) in folded:
                first, last, source = folded.index(_fold(first_name)), folded.index(_fold(last_name)), origin
                break
        else:
            pairs = "; ".join(f"{a}/{b}" for a, b, _ in NAME_HEADER_PAIRS)
            raise ExportError(
                f"{table.path}: no 'First name' and 'Last name' column before the grade columns, nor a translation "
                f"Moodle ships ({pairs}); Moodle submissions are matched by name, so the template needs both. "
                f"Identity columns found: {_listed(header[:n_identity])} (all columns: {_listed(header)}). "
                "Name them with --name-columns \"FIRST,LAST\" (e.g. --name-columns \"Nombre,Apellido(s)\")")
    if id_column is not None:
        index = _find(header, id_column, n_identity, table, "--id-column")
        if index in (first, last):
            raise ExportError(f"{table.path}: --id-column {id_column!r} is a name column; give the email or ID number column")
        ids = [(index, header[index])]
    else:
        ids = []
        for known in (EMAIL_HEADERS, ID_NUMBER_HEADERS):
            wanted = {_fold(h) for h in known}
            ids += [(i, header[i]) for i in range(n_identity) if _fold(header[i]) in wanted and i not in (first, last)][:1]
    return MoodleIdentity(first=first, last=last, first_label=header[first], last_label=header[last], ids=ids, source=source)
