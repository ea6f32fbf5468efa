"""`hyosan classic munz` and `hyosan classic alemi`."""
