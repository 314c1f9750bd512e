"""Front end: read the user's source, resolve its names, refuse what we cannot do, lower it."""
