"""GENNAPE's published numbers (Mills et al., AAAI 2023, Tables 3-6), shown beside ours."""

PAPER_TABLE3 = {"gcn": (1.78, 0.732), "gin": (1.72, 0.735), "kgnn": (1.61, 0.814), "cl": (1.51, 0.874),
                "cl_fcm": (1.19, 0.896), "cl_t": (0.65, 0.921), "cl_fcm_t": (0.59, 0.930)}  # (MAE %, SRCC)
PAPER_TABLE4 = {  # 50-shot MAE (%) of k-GNN, CL, CL+T, CL+FCM+T
    "NB-101": {"kgnn": 1.61, "cl": 1.51, "cl_t": 0.65, "cl_fcm_t": 0.59},
    "NB-201": {"kgnn": 1.80, "cl": 2.81, "cl_t": 1.93, "cl_fcm_t": 2.05},
    "NB-301": {"kgnn": 0.46, "cl": 0.85, "cl_t": 0.43, "cl_fcm_t": 0.57},
    "OFA-MBv3": {"kgnn": 0.61, "cl": 0.35, "cl_t": 0.31, "cl_fcm_t": 0.27}}
PAPER_TABLE5 = {  # SRCC: (k-GNN zero-shot, GENNAPE zero-shot, k-GNN 50-shot, GENNAPE 50-shot)
    "NB-201": (0.4930, 0.8146, 0.8606, 0.9103), "NB-301": (0.0642, 0.3214, 0.8584, 0.8825),
    "OFA-MBv3": (0.4345, 0.8660, 0.6862, 0.9449)}
PAPER_TABLE6 = {  # NDCG@10, same columns
    "NB-201": (0.9270, 0.9793, 0.9751, 0.9855), "NB-301": (0.5341, 0.7885, 0.9723, 0.9765),
    "OFA-MBv3": (0.8464, 0.9234, 0.8859, 0.9838)}
