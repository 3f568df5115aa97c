"""The base class shared by distributions and mixtures."""
import copy

from .io import from_dict, from_json, from_yaml, to_json, to_yaml

__all__ = ["Model"]

class Model:
    """What distributions and mixtures share: freezing, deep copies and serialisation (pomegranate 0.x's
    ``Model`` methods). Subclasses provide ``to_dict`` and a ``frozen`` attribute."""

    def freeze(self):
        """Freeze the object: fitting no longer changes its parameters (or, for a mixture, its weights)."""
        self.frozen = True

    def thaw(self):
        """Thaw the object, allowing updates again."""
        self.frozen = False

    def copy(self):
        """A deep copy tied to nothing else: parameters, frozen flags and pending statistics included.

        Returns
        -------
        copy : object
            An independent object of the same class.
        """
        return copy.deepcopy(self)

    def to_json(self, separators=(",", " : "), indent=4):
        """Serialise to JSON text in pomegranate 0.x's layout.

        Parameters
        ----------
        separators : tuple of str, default=(',', ' : ')
            Passed to ``json.dumps``.
        indent : int, default=4
            Passed to ``json.dumps``.

        Returns
        -------
        json : str
            The JSON document.
        """
        return to_json(self, separators=separators, indent=indent)

    def to_yaml(self):
        """Serialise to YAML text (the same document as :meth:`to_json`).

        Returns
        -------
        yaml : str
            The YAML document.
        """
        return to_yaml(self)

    @classmethod
    def from_dict(cls, d):
        """Rebuild an object from :meth:`to_dict` output; only known classes are accepted.

        Parameters
        ----------
        d : dict
            A document as written by ``to_dict`` (or by pomegranate 0.x).

        Returns
        -------
        obj : object
            An instance of this class.

        Raises
        ------
        ValueError
            For unknown classes, malformed structure, invalid parameters, or a document of another class.
        """
        return from_dict(d, expected=cls)

    @classmethod
    def from_json(cls, s):
        """Rebuild an object from JSON text, or from the name of a JSON file.

        pomegranate 0.x files load unchanged. Nothing is evaluated as code: unknown classes or
        malformed parameters raise ``ValueError``.

        Parameters
        ----------
        s : str, bytes or path-like
            JSON text, or the name of a JSON file.

        Returns
        -------
        obj : object
            An instance of this class.
        """
        return from_json(s, expected=cls)

    @classmethod
    def from_yaml(cls, s):
        """Rebuild an object from YAML text (safe loader only: Python tags are refused).

        Parameters
        ----------
        s : str, bytes or path-like
            YAML text, or a path to a YAML file.

        Returns
        -------
        obj : object
            An instance of this class.
        """
        return from_yaml(s, expected=cls)
