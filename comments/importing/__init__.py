"""Reading other systems' comment exports (WordPress WXR, Disqus, reex's own JSON) and
writing them through the import services: parsing here, rules in comments.services."""
