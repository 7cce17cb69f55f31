"""The learner's pages, composed from the layers below: the home page, the catalogue, a
course's page, the lesson player, "Mis cursos", enrolling and the course PDF."""
