"""Back end: print, compile and cache generated code."""
