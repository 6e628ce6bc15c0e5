"""Snakemake script of rule `freeze_config`: compose the instance's Hydra config, write it as YAML."""

import logging

from dirs.config import compose, save_frozen

logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)  # noqa: F821
cfg = compose(snakemake.params.overrides)  # noqa: F821
save_frozen(cfg, snakemake.output.config)  # noqa: F821
logging.info("froze %s with overrides %s", snakemake.output.config, snakemake.params.overrides)  # noqa: F821
