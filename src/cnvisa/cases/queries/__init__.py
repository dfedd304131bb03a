"""Named queries: the reads that pages, the API and the CLI share."""
