"""Speed measured against a plain PyTorch reference, same model and machine, one process."""
