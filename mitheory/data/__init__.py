"""Data a user has, and its augmentations: ImageFolder trees, CIFAR pickles, in-memory arrays;
batched two-view augmentations in plain torch (SimCLR, BYOL, VICReg recipes) on any device.
"""
from mitheory.data._arrays import ArrayDataset
from mitheory.data._augment import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    color_jitter,
    gaussian_blur,
    grayscale,
    hflip,
    resized_crop,
    sample_crop_boxes,
    solarize,
)
from mitheory.data._cifar import CIFARDataset
from mitheory.data._folder import IMAGE_EXTENSIONS, ImageFolderDataset, pil_to_tensor
from mitheory.data._specs import parse_dataset_spec, shuffled_loader
from mitheory.data._views import (
    RECIPES,
    TwoViewAugment,
    ViewRecipe,
    augment_after_crop,
    augment_view,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "RECIPES",
    "ArrayDataset",
    "CIFARDataset",
    "ImageFolderDataset",
    "TwoViewAugment",
    "ViewRecipe",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "augment_after_crop",
    "augment_view",
    "color_jitter",
    "gaussian_blur",
    "grayscale",
    "hflip",
    "parse_dataset_spec",
    "pil_to_tensor",
    "resized_crop",
    "sample_crop_boxes",
    "shuffled_loader",
    "solarize",
]
