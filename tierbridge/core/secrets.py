"""Secrets referenced from config: an environment variable or a file, never a literal value."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from tierbridge.core.errors import ConfigError
from tierbridge.core.logs import register_secret

__all__ = ["SecretRef"]


class SecretRef(BaseModel):
    """Where to read one secret: `{env: NAME}` or `{file: PATH}`.

    The value is read when needed, never stored on the model, and `repr` shows only where it
    comes from, so logging a config object cannot leak it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            msg = "a secret needs exactly one of 'env: VARIABLE_NAME' or 'file: /path/to/file'"
            raise ValueError(msg)
        return self

    def resolve(self) -> str:
        """Read the secret; raise ConfigError naming the variable or file if it is missing.

        Every value read is registered with the log redaction, so it is masked wherever it
        shows up in a log line, whichever connector or check read it.
        """
        value = self._read()
        register_secret(value)
        return value

    def _read(self) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                msg = f"environment variable {self.env} is not set; export it before starting"
                raise ConfigError(msg)
            return value

        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            msg = f"cannot read secret file {self.file}: {exc.strerror}; check the path and mode"
            raise ConfigError(msg) from exc

    def __repr__(self) -> str:
        where = f"env={self.env}" if self.env else f"file={self.file}"
        return f"SecretRef({where})"

    __str__ = __repr__
