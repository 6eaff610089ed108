"""Model providers behind one interface (see :mod:`.base`)."""
