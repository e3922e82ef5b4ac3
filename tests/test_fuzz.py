"""Property-based tests: the readers and `load_model` meet random bytes, truncated files, odd arrays and absurd headers.

Every case must end in a valid image or in the project's own clear error (a `ValueError` naming the file), never in
another exception, a crash or a hang. The number of cases run is printed at the end of the session (`pytest -s`)."""
import io, json, struct, time, zlib
from collections import Counter
from pathlib import Path
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from medvae_nb.readers import READERS, read_image, write_dicom
from medvae_nb.volumes import volume_info, read_slice
from medvae_nb.data import scan_folder
from medvae_nb.core import save_model, load_model, create_model

CASES = Counter()
FUZZ = settings(max_examples=120, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

@pytest.fixture(scope='module', autouse=True)
def _report():
    yield
    print(f"\nfuzz cases run: {dict(CASES)}, {sum(CASES.values())} in all")

def _check(path:Path, what:str):
    "Read `path`: a valid (H, W) float32 image in [0, 1], or a ValueError that names the file."
    CASES[what] += 1
    t0 = time.time()
    try: a = read_image(path)
    except ValueError as e:
        assert str(path) in str(e), f"the error does not name the file: {e}"
        return 'error'
    finally: assert time.time() - t0 < 5, f"{what}: reading took {time.time() - t0:.1f} s"
    assert a.dtype == np.float32 and a.ndim == 2 and a.size > 0, (a.dtype, a.shape)
    assert np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1
    return 'image'

SUFFIXES = sorted(READERS) + ['', '.dat']

@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(tmp_path, data, suffix):
    f = tmp_path/f'x{suffix}'
    f.write_bytes(data)
    _check(f, 'random bytes')

def _png(a:np.ndarray)->bytes:
    from PIL import Image
    buf = io.BytesIO(); Image.fromarray(a).save(buf, format='PNG'); return buf.getvalue()

def _tiff(a:np.ndarray)->bytes:
    import tifffile
    buf = io.BytesIO(); tifffile.imwrite(buf, a); return buf.getvalue()

def _dicom(a:np.ndarray, tmp:Path)->bytes:
    write_dicom(tmp/'src.dcm', a.astype(np.uint16), photometric='MONOCHROME1', slope=2., intercept=-100., window=(500, 800))
    return (tmp/'src.dcm').read_bytes()

def _npy(a:np.ndarray)->bytes:
    buf = io.BytesIO(); np.save(buf, a); return buf.getvalue()

@FUZZ
@given(h=st.integers(1, 40), w=st.integers(1, 40), sixteen=st.booleans(), fmt=st.sampled_from(['png', 'tif', 'dcm', 'npy']),
       cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=3), seed=st.integers(0, 2**16))
def test_truncated_and_corrupted_files(tmp_path, h, w, sixteen, fmt, cut, flips, seed):
    "Valid PNG, TIFF, DICOM (MONOCHROME1, rescale, window) and .npy files, cut short and with bytes flipped."
    a = np.random.default_rng(seed).integers(0, 65535 if sixteen else 255, (h, w)).astype(np.uint16 if sixteen else np.uint8)
    data = bytearray(_png(a) if fmt == 'png' else _tiff(a) if fmt == 'tif' else _dicom(a, tmp_path) if fmt == 'dcm' else _npy(a))
    for at, x in flips: data[int(at * (len(data) - 1))] ^= x
    f = tmp_path/('scan' if fmt == 'dcm' else f'x.{fmt}') # DICOM without a suffix, found by content
    f.write_bytes(bytes(data[:max(int(len(data) * cut), 0)]) if cut < 1 else bytes(data))
    _check(f, 'truncated or corrupted file')

@settings(max_examples=60, deadline=10000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 8), min_size=1, max_size=4), dtype=st.sampled_from(['uint8', 'int16', 'float32', 'float64']),
       special=st.sampled_from([None, np.nan, np.inf]), key=st.sampled_from(['reconstruction_rss', 'echo1', 'other']),
       cut=st.sampled_from([None, 0.5, 0.9]), seed=st.integers(0, 2**16))
def test_hdf5_volumes(tmp_path, shape, dtype, special, key, cut, seed):
    "HDF5 volumes of any shape and dtype, under known and unknown keys, with NaN/inf, truncated: a slice or a clear error."
    import h5py
    rng = np.random.default_rng(seed)
    a = (rng.random(shape) * 100).astype(dtype)
    if special is not None and a.dtype.kind == 'f': a.flat[rng.integers(a.size)] = special
    f = tmp_path/'vol.h5'
    with h5py.File(f, 'w') as h: h.create_dataset(key, data=a)
    if cut is not None: f.write_bytes(f.read_bytes()[:int(f.stat().st_size * cut)])
    CASES['hdf5 volume'] += 1
    try:
        info = volume_info(f)
        img = read_slice(f, 0)
    except ValueError as e:
        assert str(f) in str(e), e
        return
    assert a.ndim == 3 and key != 'other' and cut is None and (special is None or a.dtype.kind != 'f'), (shape, key, cut, special)
    assert img.dtype == np.float32 and img.ndim == 2 and np.isfinite(img).all() and 0 <= img.min() and img.max() <= 1

ARRAY_DTYPES = ['uint8', 'uint16', 'int16', 'int32', 'float32', 'float64', 'bool', 'complex64']

@FUZZ
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), dtype=st.sampled_from(ARRAY_DTYPES),
       special=st.sampled_from([None, np.nan, np.inf, -np.inf]), seed=st.integers(0, 2**16))
def test_odd_arrays(tmp_path, shape, dtype, special, seed):
    "TIFF files of any small shape and dtype, floats with NaN or inf in them."
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=shape) * 100).astype(dtype)
    if special is not None and a.dtype.kind in 'fc': a.flat[rng.integers(a.size)] = special
    f = tmp_path/'x.tif'
    try: f.write_bytes(_tiff(a))
    except Exception: return # tifffile cannot store it: nothing to read
    res = _check(f, 'odd array')
    if special is not None and a.dtype.kind in 'fc': assert res == 'error' # NaN or inf never becomes an image

def _png_header(w:int, h:int, bit_depth:int=8, colour:int=0)->bytes:
    "A PNG whose header claims w×h pixels, followed by a tiny compressed payload."
    def chunk(kind, body): return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    ihdr = struct.pack('>IIBBBBB', w, h, bit_depth, colour, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\x00' * 64)) + chunk(b'IEND', b'')

def _tiff_header(w:int, h:int)->bytes:
    "A little-endian TIFF whose one page claims w×h 8-bit pixels in one 16-byte strip."
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, 16)]
    ifd_at = 8 + 16
    head = b'II*\x00' + struct.pack('<I', ifd_at) + b'\x00' * 16
    ifd = struct.pack('<H', len(entries)) + b''.join(
        struct.pack('<HHI', tag, typ, n) + (struct.pack('<HH', v, 0) if typ == 3 else struct.pack('<I', v))
        for tag, typ, n, v in entries) + struct.pack('<I', 0)
    return head + ifd

@settings(max_examples=30, deadline=10000)
@given(w=st.integers(30_000, 100_000), h=st.integers(30_000, 100_000), fmt=st.sampled_from(['png', 'tif']))
def test_absurd_header_sizes(tmp_path_factory, w, h, fmt):
    "A file that claims up to 100000×100000 pixels: a clear error, quickly, without allocating the image."
    import resource
    f = tmp_path_factory.mktemp('big')/f'big.{fmt}'
    f.write_bytes(_png_header(w, h) if fmt == 'png' else _tiff_header(w, h))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert _check(f, 'absurd header') == 'error'
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"reading the header allocated {grown_mb:.0f} MB"

@settings(max_examples=20, deadline=20000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blobs=st.lists(st.binary(max_size=256), min_size=1, max_size=6))
def test_scan_lists_every_bad_file(tmp_path_factory, blobs):
    "A folder of random files: the scan names every file it cannot read, and raises nothing."
    d = tmp_path_factory.mktemp('scan')
    for i, b in enumerate(blobs): (d/f'f{i}.png').write_bytes(b)
    CASES['folder scan'] += 1
    try: good, bad = scan_folder(d)
    except ValueError as e: assert str(d) in str(e); return
    assert len(good) + len(bad) == len(blobs)
    assert all(r for r in bad.reason)

@pytest.fixture(scope='module')
def saved_vae(tmp_path_factory):
    d = tmp_path_factory.mktemp('model')
    save_model(create_model('vae', 32), d)
    return d

@FUZZ
@given(cut=st.integers(0, 4096), flip=st.integers(0, 4095), junk_config=st.booleans(), data=st.binary(max_size=64))
def test_tampered_model_files(tmp_path_factory, saved_vae, cut, flip, junk_config, data):
    "Truncated, bit-flipped or replaced weights and configs: a clear error naming the file, or a model."
    d = tmp_path_factory.mktemp('tamper')
    weights, cfg = (saved_vae/'model.safetensors').read_bytes(), (saved_vae/'config.json').read_text()
    w = bytearray(weights[:len(weights) - cut])
    if w: w[flip % len(w)] ^= 0xFF
    (d/'model.safetensors').write_bytes(bytes(w))
    (d/'config.json').write_text(data.decode('latin-1') if junk_config else cfg)
    CASES['tampered model'] += 1
    try: load_model(d)
    except (ValueError, FileNotFoundError) as e:
        assert 'model.safetensors' in str(e) or 'config.json' in str(e), e
