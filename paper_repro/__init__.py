"""Full-scale ImageNet pretraining and linear evaluation (torchrun, one GPU or many nodes):
JPEG decoding, two-view loaders, configs, pretraining and evaluation scripts."""
