"""baracuda-kernels code generator: SKU records -> generated/ (see README)."""
