"""gpuctl: declarative RunPod Serverless deployments (`gpu serverless ...`)."""

__version__ = "0.1.0"
