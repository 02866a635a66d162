"""Small-scale training for the studies: the method registry, the loop, evaluation cells.

Methods are organised by concept (contrastive; entropy + reconstruction; decorrelation / log-det;
distillation with a target network) and registered once each with a :class:`MethodSpec`;
importing the package registers every built-in method (``method_names()`` lists them,
``method_spec(name)`` gives the record).
"""
from mitheory.train._method import (CONCEPTS, EMATarget, MethodSpec, ObjectiveMethod,
                                    SSLMethod, make_method, method_names, method_spec,
                                    register_method, register_objective, registry_table)
# concept modules register their methods on import, in this order
from mitheory.train._contrastive import InfoNCE, infonce_options  # noqa: I001
from mitheory.train._decorrelation import MMI, VICREG_ESTIMATORS
from mitheory.train._distillation import BYOL, MINC
from mitheory.train._entropy_reconstruction import ERBYOL, ERGaussian, er_in_geometry
from mitheory.train._diagnostics import (gradient_variance, gradient_variance_sweep,
                                         relative_variance_ratio)
from mitheory.train._evaluate import evaluate_identifiability
from mitheory.train._fit import (FitResult, er_bound_of_method, fit_and_evaluate, fit_row,
                                 input_statistics, make_and_train, mean_budget_curve,
                                 probe_accuracy, representation_dim)
from mitheory.train._loop import (TrainConfig, TrainResult, embed_pairs, embed_samples,
                                  resolve_device, train)
from mitheory.train._optim import LARS, minimise, param_groups, warmup_cosine
from mitheory.train._image import (ImageEncoder, ImageMethod, ImageTrainConfig, embed_images,
                                   init_image_method_, load_checkpoint, make_image_method,
                                   save_checkpoint, train_images)
from mitheory.train._image_eval import (CIRCULAR_FACTORS, FactorSplit, factor_targets,
                                        identifiability_summary, image_identifiability,
                                        knn_monitor, knn_predict, linear_probe)
from mitheory.train._image_study import IMAGE_SPECS, sample_images, train_with_checkpoints
from mitheory.stats import trend_status  # re-exported: the image studies' plateau rule
from mitheory.train._sweep import fit_sweep
from mitheory.train._decorrelation import mmi_options
from mitheory.train._image_study import held_out_source, interval_losses, train_on_schedule
from mitheory.train._image_study import (add_interval_losses, checkpoint_trends,
                                         knn_checkpoint_monitor, labelled_probe_data)
from mitheory.train._image_study import (entropy_checkpoint_monitor, entropy_monitor_ingredients,
                                         history_curves, interval_loss_trends)
from mitheory.train._image_study import image_training_source, raw_image_distances

__all__ = [
    "BYOL", "CONCEPTS", "EMATarget", "ERBYOL", "ERGaussian", "FitResult", "InfoNCE", "MINC", "MMI",
    "MethodSpec", "ObjectiveMethod", "SSLMethod", "TrainConfig", "TrainResult",
    "VICREG_ESTIMATORS", "embed_pairs", "embed_samples", "er_in_geometry",
    "evaluate_identifiability", "fit_and_evaluate", "gradient_variance", "input_statistics",
    "gradient_variance_sweep", "make_method", "mean_budget_curve",
    "method_names", "method_spec",
    "probe_accuracy", "register_method", "register_objective", "registry_table",
    "representation_dim", "resolve_device", "train",
    "LARS", "param_groups", "warmup_cosine",
    "ImageEncoder", "ImageMethod", "ImageTrainConfig", "embed_images", "init_image_method_",
    "load_checkpoint", "make_image_method", "save_checkpoint", "train_images",
    "knn_monitor", "knn_predict", "linear_probe",
    "CIRCULAR_FACTORS", "FactorSplit", "factor_targets", "identifiability_summary",
    "image_identifiability", "trend_status",
    "IMAGE_SPECS", "sample_images", "train_with_checkpoints",
    "fit_sweep", "mmi_options", "infonce_options",
    "minimise", "make_and_train", "er_bound_of_method", "fit_row", "relative_variance_ratio",
    "held_out_source", "interval_losses", "train_on_schedule",
    "add_interval_losses", "checkpoint_trends", "knn_checkpoint_monitor",
    "labelled_probe_data",
    "entropy_checkpoint_monitor", "entropy_monitor_ingredients", "history_curves",
    "interval_loss_trends",
    "image_training_source", "raw_image_distances",
]
