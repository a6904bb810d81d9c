"""ActivityStreams objects, one module per object type."""
