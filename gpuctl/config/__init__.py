"""Reading gpu.jsonc into the desired state."""

from gpuctl.config.loader import LoadedConfig, build_desired, load_config, variables

__all__ = ["LoadedConfig", "build_desired", "load_config", "variables"]
