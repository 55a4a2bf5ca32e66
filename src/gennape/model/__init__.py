"""The estimator's building blocks: graph features, the GNN encoder, Laplacian spectra, the
contrastive loss, fuzzy C-means, prediction heads, the end-to-end GNN regressor, the readout's FLOPs
column and the FLOPs-aware label transform."""

from .contrastive import ProjectionHead, soft_contrastive_loss
from .encoder import GraphEncoder, NodeEmbedding, mask_ops, op_keep
from .fcm import FuzzyCMeans
from .features import FEATURE_VERSION, NUM_ATTRIBUTES, graph_to_data, graphs_to_batch, node_features
from .gnn_regressor import GNNRegressor
from .heads import MembershipWeightedHeads, MLPHead, PairwiseHead
from .label_transform import FlopsAwareTransform
from .readout import head_inputs, log10_gflops
from .spectral import laplacian_spectra, laplacian_spectrum

__all__ = ["FEATURE_VERSION", "NUM_ATTRIBUTES", "FlopsAwareTransform", "FuzzyCMeans", "GNNRegressor", "GraphEncoder",
           "MLPHead", "MembershipWeightedHeads", "NodeEmbedding", "PairwiseHead", "ProjectionHead", "graph_to_data",
           "graphs_to_batch", "head_inputs", "laplacian_spectra", "laplacian_spectrum", "log10_gflops", "mask_ops",
           "node_features", "op_keep", "soft_contrastive_loss"]
