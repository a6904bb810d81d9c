"""The numbered SQL migrations, a package so that an installed instance carries them along."""
