"End-to-end: `medvae-train --data DIR` on small generated copies of the layouts real knee datasets come in."
import json
from pathlib import Path
import numpy as np, pandas as pd, pytest, tifffile, h5py
from PIL import Image
from medvae_nb.phantom import KneePhantom
from medvae_nb.readers import read_image, write_dicom
from medvae_nb.core import load_model

from clirun import run

TRAIN = ('--size', '64', '--epochs', '1', '--bs', '8', '--model', 'vae')

@pytest.fixture(scope='module')
def knees():
    "24 phantom knees at 64 px, float in [0, 1], bone bright."
    return KneePhantom(size=64).generate(24, seed=5).images[:, 0]

def train(data, out, *args):
    r = run('medvae-train', '--data', str(data), *TRAIN, '--out', str(out), *args)
    assert r.returncode == 0, r.stderr[-3000:]
    assert load_model(out).img_size == 64
    return json.loads((out/'train.json').read_text())

def test_dicom_tree(tmp_path, knees):
    "Extensionless MONOCHROME1 DICOMs in nested folders, a stray text file, pydicom's real CR radiograph: trains; bone reads bright."
    root = tmp_path/'archive'
    for i, im in enumerate(knees[:16]):
        d = root/f'P{i // 4:03d}'/'1.2.840.99'/'SER1'; d.mkdir(parents=True, exist_ok=True)
        write_dicom(d/f'{i:08X}', (4095 - im*4095).round().astype(np.uint16), 'MONOCHROME1', slope=1, intercept=0,
                    window=(2047.5, 4096), bits_stored=12)
    (root/'P000'/'notes.txt').write_text('not an image, not DICOM: ignored')
    (root/'P001'/'INDEX').write_bytes(b'also not DICOM')
    from pydicom.data import get_testdata_file
    cr = Path(get_testdata_file('MR_small.dcm')).parent/'dicomdirtests'/'77654033'/'CR1'/'6154'
    (root/'P009').mkdir(); (root/'P009'/'6154').write_bytes(cr.read_bytes())
    # MONOCHROME1: the stored values are inverted; read_image gives back the bone-bright knee
    first = root/'P000'/'1.2.840.99'/'SER1'/'00000000'
    assert np.corrcoef(read_image(first).ravel(), knees[0].ravel())[0, 1] > 0.999
    assert np.abs(read_image(first) - knees[0]).max() < 1e-3
    # the real computed radiograph (pydicom's test data) reads inverted relative to its stored values
    import pydicom
    assert np.corrcoef(read_image(root/'P009'/'6154').ravel(), pydicom.dcmread(cr).pixel_array.ravel())[0, 1] < -0.99
    args = train(root, tmp_path/'run')
    assert args['format_detected'] == 'dicom'

def test_kaggle_layout_and_bad_files(tmp_path, knees):
    "Kaggle knee-OA tree with a truncated PNG, an empty file and a text file named .png: exit 2 naming all three; --skip-bad trains and lists them."
    root = tmp_path/'kaggle'
    for i, im in enumerate(knees[:20]):
        split, grade = ('train', 'val')[i % 4 == 3], str(i % 5)
        (root/split/grade).mkdir(parents=True, exist_ok=True)
        Image.fromarray((im*255).round().astype(np.uint8)).save(root/split/grade/f'9{i:03d}L.png')
    whole = (root/'train'/'0'/'9000L.png').read_bytes()
    (root/'train'/'1'/'truncated.png').write_bytes(whole[:len(whole)//2])
    (root/'train'/'2'/'empty.png').write_bytes(b'')
    (root/'val'/'3'/'notes.png').write_text('a text file with the wrong name')
    bad = {'truncated.png', 'empty.png', 'notes.png'}
    r = run('medvae-train', '--data', str(root), *TRAIN, '--out', str(tmp_path/'fail'))
    assert r.returncode == 2, r.stderr[-3000:]
    assert '3 unreadable file(s)' in r.stderr and all(b in r.stderr for b in bad), r.stderr
    assert 'file is empty' in r.stderr
    args = train(root, tmp_path/'run', '--skip-bad')
    assert args['format_detected'] == 'kaggle'
    df = pd.read_csv(tmp_path/'run'/'bad_files.csv')
    assert list(df.columns) == ['path', 'reason'] and {Path(p).name for p in df.path} == bad
    assert df.reason.str.len().min() > 5

def test_tiff16_folder(tmp_path, knees):
    "A folder of 16-bit TIFFs: trains; the 16-bit precision is kept (no 8-bit rounding)."
    root = tmp_path/'tiff'; root.mkdir()
    for i, im in enumerate(knees[:16]): tifffile.imwrite(root/f'knee{i:02d}.tif', (im*65535).round().astype(np.uint16))
    a = np.arange(1000, 1000 + 64*64, dtype=np.uint16).reshape(64, 64)
    tifffile.imwrite(root/'ramp.tif', a)
    im = read_image(root/'ramp.tif')
    assert np.abs(im - a/65535).max() < 1e-7 and len(np.unique(im)) == 64*64
    train(root, tmp_path/'run')

def test_fastmri_hdf5(tmp_path, knees):
    "fastMRI-style volumes (reconstruction_rss, singlecoil_train/val) with --n-slices, --checkpointing and --accum."
    for split, vols in (('singlecoil_train', range(3)), ('singlecoil_val', range(3, 4))):
        (tmp_path/'fastmri'/split).mkdir(parents=True)
        for v in vols:
            with h5py.File(tmp_path/'fastmri'/split/f'file100{v}.h5', 'w') as f:
                f['reconstruction_rss'] = (knees[v*6:(v+1)*6] * 3e-5).astype(np.float32)
                f['kspace'] = np.zeros((6, 4, 4), np.complex64)
    args = train(tmp_path/'fastmri', tmp_path/'run', '--n-slices', '5', '--checkpointing', '--accum', '2', '--bs', '4') # 3 batches an epoch
    assert args['format_detected'] == 'hdf5' and args['checkpointing'] and args['accum'] == 2 and args['n_slices'] == 5
    assert json.loads((tmp_path/'run'/'config.json').read_text())['checkpointing'] is True

def test_mrnet_npy(tmp_path, knees):
    "MRNet-style split/plane/NNNN.npy uint8 volumes with label CSVs."
    root = tmp_path/'MRNet-v1.0'
    for split, cases in (('train', range(3)), ('valid', range(3, 4))):
        (root/split/'coronal').mkdir(parents=True)
        for c in cases: np.save(root/split/'coronal'/f'{c:04d}.npy', (knees[c*6:(c+1)*6]*255).astype(np.uint8))
        (root/f'{split}-abnormal.csv').write_text(''.join(f'{c:04d},{c % 2}\n' for c in cases))
    args = train(root, tmp_path/'run', '--n-slices', '4')
    assert args['format_detected'] == 'npy'

def test_key_error_names_the_flag(tmp_path):
    "Issue 33: a --key that no volume holds is one error naming --key, not one per file."
    import h5py
    from medvae_nb.errors import UsageError
    from medvae_nb.train import train_run
    for i in range(3):
        with h5py.File(tmp_path/f'v{i}.h5', 'w') as f: f['echo1'] = np.random.rand(4, 16, 16).astype('f4')
    with pytest.raises(UsageError, match=r'^--key nope: none of the 3 volume\(s\) holds a dataset of that name'):
        train_run('vae', data=str(tmp_path), size=32, epochs=1, key='nope', out=tmp_path/'out', progress=False)
    assert not (tmp_path/'out').exists()
