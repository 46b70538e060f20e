"""Everything Takes knows of Runway: the API client, the model catalog, output downloads. No models."""
