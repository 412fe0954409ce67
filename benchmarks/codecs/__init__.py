"""JavaScript codecs against native ones: `smati bench codecs`."""
