"""Full-scale ImageNet SSL pretraining (torchrun) and linear evaluation of the papers' rows."""
