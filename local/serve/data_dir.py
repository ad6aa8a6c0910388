"""What `serve` keeps in its data directory (default `.videos-api/`), and `--reset`:

- `aws/` — what the local AWS endpoint's resources hold (local.serve.aws_state): DynamoDB's items
  (videos, keys, quotas, the outbox…), S3's objects (videos' files, uploads, characters' videos), SSM's
  parameters and AppConfig's routes;
- `content-credentials/` — the development CA (`ca.pem`) and the signing certificate it issued for the
  stack's KMS key (local.serve.development_certificate), kept so that files signed before stay valid;
- `api-key` — the development key serve made on its first start, so that it stays the same (the
  playground keeps it);
- `engine/` — the built-in engine's own (its characters; `renders/`, a cache of renders by content);
- `logs/` — each function's log."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from local.engine.stored_files import write_whole
from local.keys import new_key
from local.serve.development_certificate import CREDENTIALS_DIR

# What `--reset` leaves: renders are a cache by content, and make the next start no different.
_CACHE = "renders"


@dataclass(frozen=True)
class DataDirectory:
    root: Path

    @property
    def aws(self) -> Path:
        return self.root / "aws"

    @property
    def engine(self) -> Path:
        return self.root / "engine"

    @property
    def content_credentials(self) -> Path:
        return self.root / CREDENTIALS_DIR

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def api_key_file(self) -> Path:
        return self.root / "api-key"

    def reset(self) -> None:
        """Removes what serve keeps here (and nothing it did not write), the render cache aside."""
        for directory in (self.aws, self.logs):
            shutil.rmtree(directory, ignore_errors=True)
        self.api_key_file.unlink(missing_ok=True)
        if self.engine.is_dir():
            for path in self.engine.iterdir():
                if path.name != _CACHE:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()

    def development_key(self) -> str:
        """The development key made on the first start, or a new one kept for the next."""
        if self.api_key_file.exists():
            return self.api_key_file.read_text().strip()
        key = new_key()
        self.root.mkdir(parents=True, exist_ok=True)
        write_whole(self.api_key_file, f"{key}\n".encode())
        os.chmod(self.api_key_file, 0o600)
        return key
