#include "errand/common.h"
#include <stdio.h>
int main(void) { puts("errand " ER_VERSION); return 0; }
