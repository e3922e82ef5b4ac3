"""The latent explorer as a person uses it: JupyterLab in headless Chromium, run the notebook, move a slider, see the knee change.

Needs Debian's `chromium` (apt-get install chromium) and the `playwright` package; no browser is downloaded. Without
them the test skips, unless MEDVAE_REQUIRE_BROWSER=1 (set by .ci/run), where it fails. Screenshots are kept in
$MEDVAE_ARTIFACTS (default tests/artifacts/).
"""
import io, json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

ARTIFACTS = Path(os.environ.get('MEDVAE_ARTIFACTS', Path(__file__).parent/'artifacts'))
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--no-first-run']
TIMEOUT_MS = int(os.environ.get("MEDVAE_BROWSER_TIMEOUT_MS", 300_000)) # generous: the machine running this may be loaded

def _missing(reason):
    "Skip for `reason`, or fail where the browser is required (CI)."
    if os.environ.get('MEDVAE_REQUIRE_BROWSER') == '1': pytest.fail(f'{reason}; MEDVAE_REQUIRE_BROWSER=1 requires the browser test to run')
    pytest.skip(reason)

def _chromium():
    for exe in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser'):
        if exe and shutil.which(exe): return shutil.which(exe)

def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

CELLS = [
    "import warnings; warnings.filterwarnings('ignore', category=FutureWarning) # a dependency's deprecation notice\n"
    "from medvae_nb.explore import LatentExplorer",
    # the IntroVAE that ships with the package, by name: what a user opens first (and the README's screenshot)
    "explorer = LatentExplorer('introvae-256px', n_sliders=6)\n"
    "explorer",
]

def _notebook(path:Path):
    cells = [dict(cell_type='code', execution_count=None, metadata={}, outputs=[], source=s) for s in CELLS]
    nb = dict(cells=cells, nbformat=4, nbformat_minor=5,
              metadata=dict(kernelspec=dict(name='python3', display_name='Python 3 (ipykernel)', language='python')))
    path.write_text(json.dumps(nb))

@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on 127.0.0.1 with a token, serving `tmp_path`; yields (base url, token, root folder)."
    root, port, token = tmp_path/'root', _free_port(), secrets.token_hex(16)
    root.mkdir()
    settings = {'apputils-extension/notification': dict(fetchNews='false'), # no "notified about Jupyter news?" toast
               }
    for name, value in settings.items():
        f = tmp_path/'settings'/'@jupyterlab'/f'{name}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path/'config'), JUPYTER_RUNTIME_DIR=str(tmp_path/'runtime'))
    log = open(tmp_path/'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
                             f'--LabApp.user_settings_dir={tmp_path/"settings"}', f'--LabApp.workspaces_dir={tmp_path/"workspaces"}',
                             '--LabApp.news_url=None', '--LabApp.expose_app_in_browser=True', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
                             *(['--allow-root'] if os.geteuid() == 0 else [])], # CI runs as root
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(240):
            if proc.poll() is not None: break
            try:
                with urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=5) as r:
                    if r.status == 200: break
            except OSError: time.sleep(0.5)
        else: pytest.fail('JupyterLab did not answer within 2 minutes:\n' + (tmp_path/'lab.log').read_text()[-3000:])
        if proc.poll() is not None: pytest.fail('JupyterLab exited:\n' + (tmp_path/'lab.log').read_text()[-3000:])
        yield url, token, root
    finally:
        proc.terminate()
        try: proc.wait(30)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

KERNEL_READY = '''() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }'''

def _pixels(png:bytes)->np.ndarray: return np.asarray(Image.open(io.BytesIO(png)).convert('L'), dtype=np.int16)

def test_explorer_in_jupyterlab(lab):
    try: from playwright.sync_api import sync_playwright, TimeoutError as PlaywrightTimeout
    except ImportError: _missing('playwright is not installed (pip install playwright; its browser download is not needed)')
    exe = _chromium()
    if exe is None: _missing("Debian's chromium is not installed (apt-get install chromium)")
    url, token, root = lab
    _notebook(root/'explorer.ipynb')
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page(viewport=dict(width=1400, height=1000))
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f'{url}/lab/tree/explorer.ipynb?token={token}')
            page.wait_for_selector('.jp-Notebook .jp-Cell')
            page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', state='attached')
            # wait until the notebook's kernel is connected and idle (accepting the kernel dialog if JupyterLab shows one)
            for _ in range(TIMEOUT_MS // 1000):
                accept = page.locator('.jp-Dialog .jp-mod-accept')
                if accept.count() and accept.first.is_visible(): accept.first.click()
                if page.evaluate(KERNEL_READY): break
                page.wait_for_timeout(1000)
            else: pytest.fail('the notebook kernel did not connect')
            # Run > Run All Cells, as a person does
            page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
            page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
            img = page.locator('.medvae-explorer .widget-image').first
            img.wait_for(state='visible')
            page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())
            img.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS/'explorer_before.png')
            page.locator('.medvae-explorer').first.screenshot(path=ARTIFACTS/'explorer_widget.png') # the README's: a knee as it opens
            before = img.screenshot(path=ARTIFACTS/'explorer_image_before.png')
            src = img.get_attribute('src')
            # move the first latent slider with the keyboard: focus its handle, go to the slider's end
            handle = page.locator('.medvae-explorer .widget-slider').first.locator('.noUi-handle')
            readout = page.locator('.medvae-explorer .widget-slider').first.locator('.widget-readout')
            value0 = readout.inner_text()
            lo, hi, v = (float(handle.get_attribute(f'aria-value{k}')) for k in ('min', 'max', 'now'))
            handle.focus()
            page.keyboard.press('Home' if v - lo > hi - v else 'End') # to the farther end
            page.wait_for_function("([e, s]) => e.getAttribute('src') !== s", arg=[img.element_handle(), src])
            page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())
            page.wait_for_timeout(500)
            page.screenshot(path=ARTIFACTS/'explorer_after.png')
            after = img.screenshot(path=ARTIFACTS/'explorer_image_after.png')
            value1 = readout.inner_text()
        except Exception:
            page.screenshot(path=ARTIFACTS/'explorer_failure.png') # what the page showed when it went wrong
            raise
        finally: browser.close()
    a, b = _pixels(before), _pixels(after)
    assert a.shape == b.shape and min(a.shape) >= 200, f'the explorer image should be shown at 256 px, got {a.shape}'
    assert a.std() > 10, 'the decoded knee should not be a flat image'
    diff = np.abs(a - b)
    print(f'slider {value0} -> {value1}; pixels that changed by more than 2 grey levels: {(diff > 2).mean():.1%}, largest change {diff.max()}')
    assert value0 != value1, 'the slider did not move'
    assert (diff > 2).mean() > 0.01, 'moving the slider should change the displayed knee' # the same image twice differs by <= 1
