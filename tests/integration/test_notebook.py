from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "explore.ipynb"


def test_the_notebook_runs_top_to_bottom_on_the_quick_data(small_raw, small_prepared, quick_bundle, monkeypatch):
    monkeypatch.setenv("PRICING_DATA_DIR", str(small_prepared))
    monkeypatch.setenv("PRICING_RAW_DIR", str(small_raw))
    monkeypatch.setenv("PRICING_BUNDLE_DIR", str(quick_bundle))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("network" in str(o.get("data", {})) for o in outputs)  # the metrics table rendered
