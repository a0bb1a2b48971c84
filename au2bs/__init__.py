"""au2bs: OpenFace Action Units to ARKit / Live Link Face blendshapes.

The domain core, pure PyTorch and numpy: file formats, datasets, the
synthetic corpus, models, losses, metrics, training and prediction. It never
imports Ray; the distributed search lives in the `tune` package.
"""

__version__ = "0.1.0"
