

k9’°Ó	"entered twice