//! Borrowed images: views (crops, strided rows) give the pixels their owned copies give,
//! and the image crate converts both ways.

mod common;

use pixmix::{
    AsImageView, Config, CpuExecutor, Dtype, ImageView, PixMix, Planner, Preset, Rgb8Image,
};

#[test]
fn views_augment_as_their_owned_copies() {
    let config = Config::preset(Preset::Imagenet);
    let photos = common::photos(4, &[(260, 240), (300, 250)], 3);
    // Each photo inside a larger buffer: a crop with a row stride wider than its rows.
    let crops: Vec<(usize, usize, usize, usize)> = vec![
        (3, 5, 230, 224),
        (0, 0, 300, 250),
        (17, 1, 240, 238),
        (30, 12, 200, 228),
    ];
    let owned: Vec<Rgb8Image> = photos
        .iter()
        .zip(&crops)
        .map(|(p, &(x, y, w, h))| p.crop(x, y, w, h).unwrap())
        .collect();
    let views: Vec<ImageView<'_>> = photos
        .iter()
        .zip(&crops)
        .map(|(p, &(x, y, w, h))| p.view().crop(x, y, w, h).unwrap())
        .collect();
    for (v, o) in views.iter().zip(&owned) {
        assert_eq!(v.to_image(), *o);
        assert!(v.width() == o.width() && v.height() == o.height());
    }
    let mut a = PixMix::new(config.clone(), common::mixing(&config), 5).unwrap();
    let mut b = PixMix::new(config.clone(), common::mixing(&config), 5).unwrap();
    let want = a.augment(&owned, Dtype::F32).unwrap();
    let got = b.augment_views(&views, Dtype::F32).unwrap();
    assert_eq!(got.to_f32_vec(), want.to_f32_vec());

    // The executor takes any AsImageView: owned images, views, references.
    let exec = CpuExecutor::new(&config).unwrap();
    let plan = Planner::new(&config, 9)
        .unwrap()
        .plan(&Rgb8Image::sizes(&views), common::mixing(&config).sizes())
        .unwrap();
    let mixing = common::mixing(&config);
    let by_view = exec.augment(&plan, &views, &mixing, Dtype::F16).unwrap();
    let by_ref: Vec<&Rgb8Image> = owned.iter().collect();
    let by_owned = exec.augment(&plan, &by_ref, &mixing, Dtype::F16).unwrap();
    assert_eq!(by_view.as_bytes(), by_owned.as_bytes());
    assert_eq!(owned[0].as_view(), owned[0].view());
}

#[test]
fn strided_views_are_checked() {
    let buffer = vec![9u8; 100];
    // Two rows of 4 pixels (12 bytes) 20 bytes apart: the last row needs only 12.
    let v = ImageView::with_stride(4, 2, 20, &buffer[..32]).unwrap();
    assert_eq!(v.stride(), 20);
    assert_eq!(v.row(1), &[9u8; 12][..]);
    assert!(v.as_contiguous().is_none());
    let err = |r: pixmix::Result<ImageView<'_>>| r.unwrap_err().to_string();
    assert!(
        err(ImageView::with_stride(4, 2, 20, &buffer[..31])).contains("needs 32 bytes, got 31")
    );
    assert!(err(ImageView::with_stride(4, 2, 11, &buffer)).contains("stride 11"));
    assert!(err(ImageView::new(4, 2, &buffer)).contains("needs 24 bytes, got 100"));
    assert!(err(ImageView::new(0, 2, &buffer)).contains("empty"));
    assert!(err(v.crop(2, 0, 3, 1)).contains("does not fit a 4x2 image"));
    assert!(err(v.crop(usize::MAX, 0, 2, 1)).contains("does not fit"));
    let contiguous = ImageView::new(4, 2, &buffer[..24]).unwrap();
    assert_eq!(contiguous.as_contiguous(), Some(&buffer[..24]));
}

#[test]
fn the_image_crate_converts_both_ways() {
    let photo = common::make_image("smooth", 2, 33, 21);
    let theirs: image::RgbImage = photo.clone().into();
    assert_eq!(theirs.dimensions(), (33, 21));
    let view = ImageView::try_from(&theirs).unwrap();
    assert_eq!(view.to_image(), photo);
    let back: Rgb8Image = theirs.clone().try_into().unwrap();
    assert_eq!(back, photo);
    let dynamic = image::DynamicImage::ImageRgb8(theirs);
    assert_eq!(Rgb8Image::try_from(dynamic).unwrap(), photo);
    let empty = image::RgbImage::new(0, 4);
    assert!(
        Rgb8Image::try_from(empty)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
}
