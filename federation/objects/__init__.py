"""One room per object type: each builds its documents, reads incoming ones and publishes them."""
