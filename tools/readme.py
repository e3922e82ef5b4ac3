"""Write README.md from nbs/index.ipynb without Quarto (nbdev's `nbdev-readme` needs Quarto, which these machines lack).

Usage: python tools/readme.py   (from the repository root)
"""
from pathlib import Path
import re
import nbformat

root = Path(__file__).resolve().parents[1]
nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
parts = []
for cell in nb.cells:
    src = cell.source.strip()
    if not src or src.startswith('#|'): continue
    if cell.cell_type == 'markdown':
        src = re.sub(r'^> (.*)$', r'> \1', src, flags=re.M)
        parts.append(re.sub(r'\]\((images/)', r'](nbs/\1', src))
    elif cell.cell_type == 'code':
        parts.append(f"```python\n{src}\n```")
        for out in cell.get('outputs', []):
            text = out.get('text') or out.get('data', {}).get('text/plain')
            if text: parts.append("```\n" + (''.join(text) if isinstance(text, list) else text).rstrip() + "\n```")
(root/'README.md').write_text("<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n\n"
                              + '\n\n'.join(parts) + '\n')
print('wrote', root/'README.md')
