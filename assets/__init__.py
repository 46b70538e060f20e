"""The files people upload to feed generations: the Asset model, probing, thumbnails, uploads."""
