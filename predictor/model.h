// Model-level metrics (the lecture's): parameters, model size, MACs, activations, energy, latency.
#pragma once
