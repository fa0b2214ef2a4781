"""Print the README's configuration table from the Settings class (keep them in step)."""

from wirewatch.settings import Settings


def table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if name.endswith("max_bytes"):
            default = f"{default // (1024 * 1024)} MiB"
        shown = "unset" if default is None else f"`{default}`"
        lines.append(f"| `WIREWATCH_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
