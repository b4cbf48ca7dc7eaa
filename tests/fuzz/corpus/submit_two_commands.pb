
B
k0‘°Ó	7
5
QUE'NHS Cambridgeshire and Peterborough ICB"Y61
+
k1‘°Ó	 
X24QUE è(€¸Éå®0:AL/1