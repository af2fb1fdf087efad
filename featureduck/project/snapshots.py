"""dbt snapshots as declared: `{% snapshot %}` blocks in the snapshot paths' .sql files,
and dbt 1.9's YAML snapshots (`snapshots:` entries with a `relation:`).

Each becomes a `Model` of resource type `snapshot`, materialized `snapshot`, so it
is rendered, compiled, ordered and selected as models are; what it builds is in
`materializations/snapshot.py`.
"""

from __future__ import annotations

import re
from typing import Any

from featureduck.errors import ProjectError, SourceLocation
from featureduck.project.nodes import Model
from featureduck.project.schema_files import SnapshotShape
from featureduck.utils.hashing import sha256_text

_BLOCK = re.compile(r"{%-?\s*snapshot\s+(\w+)\s*-?%}(.*?){%-?\s*endsnapshot\s*-?%}", re.DOTALL)
_OPENING = re.compile(r"{%-?\s*snapshot\b")
# dbt 1.9's `relation:`: the one ref() or source() a YAML snapshot selects from
_RELATION = re.compile(r"^\s*(ref|source)\s*\(.*\)\s*$", re.DOTALL)


def snapshot_blocks(path: str, text: str, project: str, folder_config: dict[str, Any]) -> list[Model]:
    """The snapshots one .sql file defines. A block's SQL keeps its line numbers (it is
    preceded by as many newlines as the file has above it), so errors name the file's lines."""
    found = []
    for match in _BLOCK.finditer(text):
        lines_above = text.count("\n", 0, match.start(2))
        body = "\n" * lines_above + match.group(2)
        found.append(Model(name=match.group(1), project=project, path=path, raw_sql=body, checksum=sha256_text(body),
                           folder_config=snapshot_config(folder_config), resource_type="snapshot"))
    opened = len(_OPENING.findall(text))
    if opened != len(found):
        line = text.count("\n", 0, list(_OPENING.finditer(text))[len(found)].start()) + 1 if opened > len(found) else 1
        raise ProjectError("a `{% snapshot name %}` block without its `{% endsnapshot %}`", SourceLocation(path, line),
                           "close every snapshot block with {% endsnapshot %}")
    return found


def yaml_snapshot(shape: SnapshotShape, location: SourceLocation, project: str, folder_config: dict[str, Any]) -> Model:
    """A dbt 1.9 snapshot declared in YAML: `select *` from its `relation`. Its config,
    columns and tests are the entry's patch, applied as a model's."""
    relation = str(shape.relation)
    if not _RELATION.match(relation):
        raise ProjectError(f"snapshot '{shape.name}': relation must be ref('...') or source('...', '...'), not {relation!r}",
                           location)
    sql = f"select * from {{{{ {relation.strip()} }}}}"
    return Model(name=shape.name, project=project, path=location.file, raw_sql=sql, checksum=sha256_text(sql),
                 folder_config=snapshot_config(folder_config), resource_type="snapshot")


def snapshot_config(folder_config: dict[str, Any]) -> dict[str, Any]:
    """Every snapshot is materialized as one, whatever its folder says."""
    return {**folder_config, "materialized": "snapshot"}
