"""Every output kept and found again: tags, favourites, search, ZIPs and share links."""
