# Config validation and paths shared by every rule file. Runs before any job is scheduled.
import os
from pathlib import Path

from homeoplastic.config import ConfigError, load_schema, validate

SCHEMA_DIR = Path(workflow.basedir) / "workflow" / "schemas"

# Each model section of the config has its own schema; a section is validated (and its defaults
# filled in) before any job runs. A bad key or value stops the workflow with a message naming it.
_top_schema = load_schema(SCHEMA_DIR / "config.schema.yaml")
config.update(validate(config, _top_schema, where="config"))
for _section in ("assemblies", "balancing", "reduced"):
    _schema_file = SCHEMA_DIR / f"{_section}.schema.yaml"
    if _schema_file.exists() and _section in config:
        config[_section] = validate(config[_section], load_schema(_schema_file), where=_section)

RESULTS = config["results_dir"]
LOGS = config["logs_dir"]

# Rule files append their final outputs here; `rule all` requests them.
ALL_TARGETS = []

# One rule file per model; a model whose section is absent or disabled contributes nothing.
MODEL_RULE_FILES = [
    f"rules/{name}.smk"
    for name in ("assemblies", "balancing", "reduced", "figures")
    if (Path(workflow.basedir) / "workflow" / "rules" / f"{name}.smk").exists()
]
