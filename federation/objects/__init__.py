"""ActivityStreams objects, one module per object type: documents built, read and published."""
