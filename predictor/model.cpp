#include "predictor/model.h"
