"""Small, readable PyTorch reference implementations of model-inversion attacks and defenses."""
